// The Lambda `bootstrap`: a custom runtime serving the combined model (`BOTTLENECK_MODE=classify`, the default)
// or extracting bottleneck vectors of S3 item batches (`BOTTLENECK_MODE=extract`). Settings: `BootstrapSettings`.

import Foundation
import LambdaRuntime

let environment = ProcessInfo.processInfo.environment
RuntimeLoop.run(environment: environment) {
    let settings = try BootstrapSettings(environment: environment)
    switch settings.mode {
    case .classify: return try ClassifyHandler(settings: settings)
    case .extract: return try ExtractHandler(environment: environment)
    }
}
