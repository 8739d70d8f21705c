"""``kv.inspect()``: one look at a stream, and which APIs it can use.

``requirements`` holds what each API needs, said once (the docs page
``guides/why-not.md`` is generated from it); ``report`` the frozen models;
``tracks`` what a fragment's tracks really hold; ``look`` the few calls that
gather the facts; ``display`` the text and HTML forms.
"""
