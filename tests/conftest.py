pytest_plugins = ["community.testing"]
