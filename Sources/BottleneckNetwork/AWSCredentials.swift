/// An AWS access key pair, with the session token of temporary credentials.
///
/// `description` never shows the secret or the token, so credentials can appear in logs and error messages.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    /// The access key id, e.g. `AKIA...` (or `ASIA...` for temporary credentials).
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String
    /// The session token of temporary credentials (sent as `x-amz-security-token`), or nil.
    public var sessionToken: String?
    /// Where the credentials came from, for error messages (e.g. "environment variables").
    public var source: String

    /// Creates credentials. The key id and secret must not be empty (programmer error).
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String = "code") {
        precondition(!accessKeyID.isEmpty && !secretAccessKey.isEmpty, "empty AWS access key id or secret key")
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String {
        "access key \(accessKeyID)\(sessionToken == nil ? "" : " with a session token") from \(source)"
    }
}
