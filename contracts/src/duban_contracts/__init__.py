"""duban's shared contracts: the only code the services share.

- `events`    versioned canonical event models
- `inbound`   the submission integrations send
- `subjects`  subject names
- `topology`  who consumes and publishes what; streams and durable consumers
- `rpc`       request/reply models
- `plan`      the plan model and the bundled 2023 plan
- `units`     base units and their spellings
"""

__version__ = "1.0.0"
