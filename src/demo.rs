//! The demonstration run.
/// Runs the demo.
///
/// # Errors
/// Any part fails to start.
pub async fn run() -> anyhow::Result<()> {
    Ok(())
}
