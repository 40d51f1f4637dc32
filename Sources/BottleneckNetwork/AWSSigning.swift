/// What libcurl needs to sign a request with AWS Signature Version 4 (CURLOPT_AWS_SIGV4).
///
/// libcurl signs the Host header, every header of the request and an `x-amz-date` it adds; the payload hash is
/// taken from the request's `x-amz-content-sha256` header, which S3 requires anyway (set it to the body's
/// SHA-256 in hex, or `UNSIGNED-PAYLOAD`). The session token is not added here: send it as the
/// `x-amz-security-token` header so that it is signed too.
public struct AWSSigning: Sendable {
    /// The access key id and secret key that sign.
    public var credentials: AWSCredentials
    /// The region of the credential scope, e.g. `us-east-1`.
    public var region: String
    /// The service of the credential scope, e.g. `s3`.
    public var service: String

    /// Creates the signing parameters.
    public init(credentials: AWSCredentials, region: String, service: String) {
        precondition(!region.isEmpty && !region.contains(":"), "invalid AWS region \(region.debugDescription)")
        precondition(!service.isEmpty && !service.contains(":"), "invalid AWS service \(service.debugDescription)")
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The CURLOPT_AWS_SIGV4 parameter: provider1:provider2:region:service.
    var curlParameter: String { "aws:amz:\(region):\(service)" }
}
