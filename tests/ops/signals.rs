//! Signals: SIGHUP reloads while requests flow, SIGTERM under load leaves nothing behind.
