import Foundation
import Testing

/// The sample events of the AWS documentation, in Tests/Fixtures/lambda-events (found from this file's path, with
/// symlinks resolved so that a scratch package linking to this folder still finds them).
enum EventFixtures {
    static let folder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/lambda-events")

    /// The bytes of `name`.json.
    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: folder.appendingPathComponent("\(name).json"))
    }

    /// `name`.json with top-level fields replaced (`nil` removes a field).
    static func modified(_ name: String, _ changes: [String: Any?]) throws -> Data {
        var object = try #require(try JSONSerialization.jsonObject(with: data(name)) as? [String: Any])
        for (key, value) in changes { object[key] = value ?? nil }
        return try JSONSerialization.data(withJSONObject: object)
    }
}
