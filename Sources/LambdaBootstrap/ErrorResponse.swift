/// The JSON body of a failed request: `{"error": "refusedAddress", "message": "..."}`.
struct ErrorResponse: Encodable {
    /// A `ServingError.Kind`, `invalidRequest` (the event or body is malformed) or `internal`.
    var error: String
    /// What went wrong and what to do.
    var message: String
}
