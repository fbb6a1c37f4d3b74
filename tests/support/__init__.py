"""Test helpers: a real mitmdump process, a raw HTTP client, fake servers, the seed capture."""
