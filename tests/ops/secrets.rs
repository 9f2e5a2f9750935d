//! Logs of a run that uses every kind of secret carry none of them.
