# Copyright: prefect preset maintainers
# Apache License 2.0 (see galaxy.yml)
"""The options every module that talks to Prefect's REST API takes
(module_utils/prefect_api.py's API_ARGUMENT_SPEC), documented once."""


class ModuleDocFragment:
    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - Base URL of the Prefect API, including the C(/api) suffix, for example
        V(http://127.0.0.1:4200/api).
      - The same value as Prefect's C(PREFECT_API_URL) setting.
    type: str
    required: true
  api_auth_string:
    description:
      - Credentials for a self-hosted Prefect server protected with basic authentication,
        as V(user:password) (Prefect's C(PREFECT_API_AUTH_STRING)).
      - Sent as an HTTP basic C(Authorization) header.
      - Mutually exclusive with O(api_key).
    type: str
  api_key:
    description:
      - API key (Prefect's C(PREFECT_API_KEY)), sent as a bearer token in the C(Authorization)
        header.
      - Mutually exclusive with O(api_auth_string).
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API when O(api_url) uses HTTPS.
    type: bool
    default: true
  timeout:
    description:
      - Timeout in seconds of each HTTP request to the API.
    type: int
    default: 30
'''
