"""Common open model families, from each model's config.json on the Hugging Face hub.

head_dim = hidden_size / num_attention_heads: Llama 3 8B 4096 / 32, Llama 3 70B 8192 / 64, Mistral 7B 4096 / 32.
"""

from django.db import migrations

FAMILIES = [
    # name, num_hidden_layers, num_key_value_heads, head_dim
    ("meta-llama/Meta-Llama-3-8B", 32, 8, 128),
    ("meta-llama/Meta-Llama-3-70B", 80, 8, 128),
    ("mistralai/Mistral-7B-v0.1", 32, 8, 128),
]


def seed(apps, schema_editor):
    ModelFamily = apps.get_model("catalog", "ModelFamily")
    for name, layers, kv_heads, head_dim in FAMILIES:
        ModelFamily.objects.update_or_create(name=name, defaults={
            "layers": layers, "kv_heads": kv_heads, "head_dim": head_dim,
            "source": f"https://huggingface.co/{name}/blob/main/config.json",
        })


def unseed(apps, schema_editor):
    apps.get_model("catalog", "ModelFamily").objects.filter(name__in=[f[0] for f in FAMILIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_model_families")]
    operations = [migrations.RunPython(seed, unseed)]
