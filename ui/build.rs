//! Compiles the .slint markup. Debug info is emitted so that UI tests can
//! find elements by their id (`AppWindow::name` in the markup).
fn main() {
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    if let Err(error) = slint_build::compile_with_config("app.slint", config) {
        eprintln!("the Slint markup does not compile: {error}");
        std::process::exit(1);
    }
}
