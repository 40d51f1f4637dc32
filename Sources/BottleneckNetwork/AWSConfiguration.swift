import Foundation

/// Where and as whom to reach AWS: credentials, region and an optional endpoint override, found the way the AWS
/// CLI and SDKs find them.
///
/// `load(environment:)` is the one place that reads these settings. It takes the environment as a dictionary
/// (pass `ProcessInfo.processInfo.environment` in production, a literal in tests) and reads files only at the
/// paths that dictionary names or implies.
public struct AWSConfiguration: Sendable {
    /// The region used when none is configured.
    public static let defaultRegion = "us-east-1"

    /// The credentials that sign requests.
    public var credentials: AWSCredentials
    /// The region, e.g. `eu-west-1`.
    public var region: String
    /// An endpoint that replaces the AWS one, e.g. `http://127.0.0.1:9000` for a local S3-compatible server,
    /// without a trailing slash. Its presence selects path-style S3 addressing.
    public var endpoint: String?

    /// Creates a configuration. `endpoint` must be an http or https URL when given (programmer error).
    public init(credentials: AWSCredentials, region: String = AWSConfiguration.defaultRegion, endpoint: String? = nil) {
        precondition(endpoint.map { $0.hasPrefix("http://") || $0.hasPrefix("https://") } ?? true,
                     "the endpoint must be an http or https URL, got \(endpoint ?? "")")
        self.credentials = credentials
        self.region = region
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// Finds the settings the way the AWS CLI does, for the profile named by `AWS_PROFILE` (default `default`):
    ///
    /// - Credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`); else
    ///   `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token` of the profile in the shared
    ///   credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`, section `[name]`); else the
    ///   same keys in the config file (`AWS_CONFIG_FILE`, default `~/.aws/config`, section `[profile name]`, or
    ///   `[default]`).
    /// - Region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region` in the config file, else
    ///   `us-east-1`.
    /// - Endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
    ///   is `true`.
    ///
    /// `~` in file paths is `HOME` from `environment`.
    /// - Throws: `NetworkError(.missingCredentials)` when no credentials are found, `.invalidConfiguration` for
    ///   a half-set key pair, a named profile that exists in neither file, an unreadable file, a malformed region
    ///   or a malformed endpoint.
    public static func load(environment: [String: String]) throws(NetworkError) -> AWSConfiguration {
        func variable(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                return nil
            }
            return value
        }
        let home = variable("HOME")
        func expand(_ path: String) -> String {
            guard let home, path == "~" || path.hasPrefix("~/") else { return path }
            return home + path.dropFirst()
        }
        func file(_ variableName: String, default relativePath: String) throws(NetworkError) -> AWSProfileFile? {
            guard let path = variable(variableName).map(expand) ?? home.map({ $0 + relativePath }) else { return nil }
            return try AWSProfileFile.load(path: path)
        }

        let namedProfile = variable("AWS_PROFILE")
        let profile = namedProfile ?? "default"
        let credentialsFile = try file("AWS_SHARED_CREDENTIALS_FILE", default: "/.aws/credentials")
        let configFile = try file("AWS_CONFIG_FILE", default: "/.aws/config")
        let credentialsSection = credentialsFile?.sections[profile]
        let configSection = configFile?.sections["profile \(profile)"]
            ?? (profile == "default" ? configFile?.sections["default"] : nil)
        if let namedProfile, credentialsSection == nil, configSection == nil {
            let searched = [credentialsFile?.path, configFile?.path].compactMap { $0 }
            let files = searched.isEmpty ? "any AWS settings file (none exists)" : searched.joined(separator: " or ")
            throw NetworkError(.invalidConfiguration, "AWS_PROFILE names the profile '\(namedProfile)', which is not "
                + "in \(files). "
                + "Add it (`aws configure --profile \(namedProfile)`) or unset AWS_PROFILE.")
        }

        let credentials: AWSCredentials
        switch (variable("AWS_ACCESS_KEY_ID"), variable("AWS_SECRET_ACCESS_KEY")) {
        case let (keyID?, secret?):
            credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret,
                                         sessionToken: variable("AWS_SESSION_TOKEN"), source: "environment variables")
        case (_?, nil), (nil, _?):
            throw NetworkError(.invalidConfiguration, "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set. "
                + "Set both, or neither to use the shared credentials file.")
        case (nil, nil):
            func keyed(_ section: [String: String]?, _ file: AWSProfileFile?) -> ([String: String], AWSProfileFile)? {
                guard let section, let file,
                      section["aws_access_key_id"] != nil || section["aws_secret_access_key"] != nil else { return nil }
                return (section, file)
            }
            guard let found = keyed(credentialsSection, credentialsFile) ?? keyed(configSection, configFile)
            else {
                let path = credentialsFile?.path ?? home.map { $0 + "/.aws/credentials" } ?? "~/.aws/credentials"
                throw NetworkError(.missingCredentials, "no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY, or add aws_access_key_id and aws_secret_access_key to the profile "
                    + "'\(profile)' of \(path).")
            }
            let (section, source) = found
            guard let keyID = section["aws_access_key_id"], !keyID.isEmpty,
                  let secret = section["aws_secret_access_key"], !secret.isEmpty else {
                throw NetworkError(.invalidConfiguration, "the profile '\(profile)' in \(source.path) has no complete "
                    + "key pair: it needs both aws_access_key_id and aws_secret_access_key.")
            }
            let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token,
                                         source: "profile '\(profile)' in \(source.path)")
        }

        let region = variable("AWS_REGION") ?? variable("AWS_DEFAULT_REGION")
            ?? configSection?["region"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultRegion
        guard region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw NetworkError(.invalidConfiguration, "the AWS region '\(region)' is not a region name like "
                + "us-east-1. Fix AWS_REGION, AWS_DEFAULT_REGION or the profile's region.")
        }

        var endpoint: String?
        if variable("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() != "true" {
            for name in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
                guard let value = variable(name) else { continue }
                let isHTTP = value.hasPrefix("http://") || value.hasPrefix("https://")
                guard isHTTP, value.split(separator: "/").count >= 2 else {
                    throw NetworkError(.invalidConfiguration, "\(name) is '\(value)', which is not an http or https "
                        + "URL. Set it to e.g. http://127.0.0.1:9000, or unset it to use AWS.")
                }
                endpoint = value
                break
            }
        }
        return AWSConfiguration(credentials: credentials, region: region, endpoint: endpoint)
    }
}
