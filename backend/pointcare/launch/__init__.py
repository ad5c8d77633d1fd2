"""EHR launch: the EHR opens Pointcare in a patient's context with a short-lived signed JWT.

- ``config``: trusted issuers (file / settings), one key kind per issuer, algorithm allow-lists.
- ``keys``: static keys and JWKS (cached by ``kid``, refetched on rotation, rate-limited).
- ``verify``: signature, audience, times, lifetime; ``claims``: what the token says (pure).
- ``replay``: each ``jti`` used once; ``users``: the EHR's users (no password).
- ``service``: the launch as one transaction, audited; ``binding``: launch-bound sessions.
- ``mint`` / ``demo``: signing for issuers whose key Pointcare holds (``pointcare launch-url``).

Every refusal is a ``LaunchRefused`` (``errors``), whose text never includes the token.
"""
