"""A test plugin that cannot even be imported: the site starts without it and says why."""

raise ImportError("No module named 'some_missing_dependency'")
