"""What to tell a user whose machine lacks an AWS region or credentials.

The library and the command line say the same thing, each naming its own
way to fix it (``region_name=`` or ``--region``, ``AWS_PROFILE`` or ``--profile``).
"""

from __future__ import annotations

import os

__all__ = ["no_credentials_message", "no_region_message"]


def no_region_message(give_region: str) -> str:
    """Why no region was found; ``give_region`` names the caller's own way to give one."""
    message = (
        f"no AWS region: {give_region}, set AWS_DEFAULT_REGION, or set region in your AWS profile"
    )
    if os.environ.get("AWS_REGION"):
        # Other SDKs read AWS_REGION; botocore reads only AWS_DEFAULT_REGION.
        message += " (AWS_REGION is set, but boto3 reads AWS_DEFAULT_REGION)"
    return message


def no_credentials_message(choose_profile: str, without_aws: str) -> str:
    """Why no request could be signed, with the fixes (``choose_profile``, ``without_aws``)."""
    return (
        "no AWS credentials found: run 'aws configure' or set AWS_ACCESS_KEY_ID and "
        f"AWS_SECRET_ACCESS_KEY, or {choose_profile}; {without_aws}"
    )
