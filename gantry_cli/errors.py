"""Exit codes scripts can rely on (EXIT_CODES, shown by `gantry --help` and the README), and the errors that
carry them."""

import click

OK, REFUSED, USAGE, UNAVAILABLE, NOT_AUTHENTICATED = 0, 1, 2, 3, 4
EXIT_CODES = f"""\
{OK}  done (also an apply that found nothing to change)
{REFUSED}  the API refused the request (invalid spec, no such deployment, conflict, role): its message on stderr
{USAGE}  usage: unknown command or option, missing or unreadable file (click's code for usage errors)
{UNAVAILABLE}  the server cannot be reached or cannot answer now (network, timeout, 5xx, 429): retry later
{NOT_AUTHENTICATED}  not authenticated: no token configured, or the server refused it (401)"""


class CliError(click.ClickException):
    """An error to print on stderr and exit with `exit_code`."""

    def __init__(self, message, exit_code=REFUSED):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None):
        click.echo(f"gantry: {self.format_message()}", err=True)


class ApiRefused(CliError):
    """The API's errors, each as {"code", "field", "message"}, printed in its own words."""

    def __init__(self, errors, exit_code=REFUSED, hint=None):
        self.errors, self.hint = errors, hint
        super().__init__("\n".join(error_line(e) for e in errors) or "the API refused the request", exit_code)

    def show(self, file=None):
        for error in self.errors:
            click.echo(f"error: {error_line(error)}", err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=True)


def error_line(error):
    """`field: message (code)`: the message as the API wrote it."""
    field = f"{error['field']}: " if error.get("field") else ""
    return f"{field}{error.get('message', '')} ({error.get('code', 'error')})"
