"""Gantry's date and time formats (Django's FORMAT_MODULE_PATH, "Creating custom format files"): the admin and
every page (formats/moments.py) write a moment one way, with its time zone: "5 Mar 2025, 14:03 UTC".

Letters: Django's `date` template filter (j day, M month abbreviation, Y year, H:i 24-hour time, T time zone).
"""

DATETIME_FORMAT = "j M Y, H:i T"
DATE_FORMAT = "j M Y"
