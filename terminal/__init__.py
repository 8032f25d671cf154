"""What people see at a terminal: translation (gettext catalogs), local times, tables, form prompts.

No click here (the CLI is the only module that imports it): these take plain callables to ask and
to print, so the command line and tests drive them alike.
"""
