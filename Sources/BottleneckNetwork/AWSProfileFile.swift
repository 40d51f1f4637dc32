import Foundation

/// One of the AWS shared files, `~/.aws/credentials` or `~/.aws/config`, parsed the way botocore's
/// RawConfigParser reads it: `[section]` headers, `key = value` (or `key: value`) lines with keys lowercased,
/// whole-line comments starting with `#` or `;`. Indented lines (the nested `s3 =` settings) are skipped.
struct AWSProfileFile {
    /// The file's path, for messages.
    let path: String
    /// Settings by section name (as written, e.g. `default` or `profile ci`), then by lowercased key.
    let sections: [String: [String: String]]

    /// Reads and parses the file; nil when it does not exist.
    /// - Throws: `NetworkError(.invalidConfiguration)` when it exists but cannot be read as UTF-8 text.
    static func load(path: String) throws(NetworkError) -> AWSProfileFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw NetworkError(.invalidConfiguration, "cannot read the AWS settings file \(path): "
                + "\(error.localizedDescription). Fix its permissions or encoding, or point "
                + "AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE elsewhere.", underlying: error)
        }
        return AWSProfileFile(path: path, text: text)
    }

    /// Parses `text`.
    init(path: String, text: String) {
        self.path = path
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let first = rawLine.first, first != " " && first != "\t",
                  let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = line[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: separator)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        self.sections = sections
    }
}
