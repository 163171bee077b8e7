"""Everything that imports keras/tensorflow lives here."""
