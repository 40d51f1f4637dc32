/// A setting of the function (an environment variable) that is missing or malformed; reported at init.
struct BootstrapError: Error, CustomStringConvertible {
    /// What is wrong and how to fix it.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
