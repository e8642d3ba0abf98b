// PLACEHOLDER: implemented by the KWS / generator work.
