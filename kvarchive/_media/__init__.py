"""``MediaStream`` and the bodies it reads.

``stream`` is the public file object; ``scanned`` the base of the bodies read
through the Matroska scanner: ``resume`` (the service's answers to
GetMediaForFragmentList, requested in batches and resumed after a dropped
connection) and ``file_body`` (a local file). A GetClip answer is read as the
plain botocore body it is.
"""
