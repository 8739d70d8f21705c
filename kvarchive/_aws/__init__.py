"""The AWS edge: where kvarchive meets boto3 and botocore, and the only place that imports them.

``operations`` is each archived-media operation on the wire (parameters in,
checked answers out); ``calls`` sends every request (pacing, throttling
retries, a data endpoint resolved again when it stops answering);
``translate`` is the one seam where botocore's exceptions and answers become
kvarchive's; ``endpoints`` makes the boto3 clients and caches data endpoints;
``throttle`` holds the pacing and the backoff; ``fastpages`` reads
ListFragments pages without botocore's slow timestamp parsing; ``hints`` says
what to do when no region or credentials are found; ``s3`` reads and
conditionally writes the one S3 object an ``S3Checkpoint`` keeps.
"""
