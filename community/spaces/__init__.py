"""Spaces: the hub-and-spoke tree that holds topics, each with visibility and moderators."""
