"""The ``an-deploy`` command line: thin typer commands over the an_deploy library."""
