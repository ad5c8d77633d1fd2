"""Demo content for ``pointcare serve --demo``: photo histories made at start, from pictures
drawn here, stored through the one capture command and pipeline."""
