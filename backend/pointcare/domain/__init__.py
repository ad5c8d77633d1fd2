"""Pure clinical rules: patients, body sites, views, consent. No I/O."""
