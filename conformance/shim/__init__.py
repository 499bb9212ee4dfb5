"""The peer shim protocol (spec/shim.md): the kit's client, and the shims it ships."""
