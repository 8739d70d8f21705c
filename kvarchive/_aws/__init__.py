"""The AWS edge: where kvarchive meets boto3 and botocore.

``calls`` sends every request (pacing, throttling retries, endpoint
recovery); ``endpoints`` makes the boto3 clients and caches data endpoints;
``throttle`` holds the pacing and backoff; ``fastpages`` reads ListFragments
pages without botocore's slow timestamp parsing; ``hints`` says what to do
when no region or credentials are found.
"""
