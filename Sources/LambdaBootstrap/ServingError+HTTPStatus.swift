import BottleneckServing

extension ServingError.Kind {
    /// The HTTP status a caller gets for this failure: its own mistakes are 4xx (a URL that cannot or may not be
    /// fetched, bytes that are no image, too large), the image server's are 502 (an error status, no connection)
    /// or 504 (too slow), and a model that cannot run is 500.
    var httpStatus: Int {
        switch self {
        case .invalidURL, .refusedAddress, .notAnImage: 400
        case .tooLarge: 413
        case .timedOut: 504
        case .httpStatus, .unreachable: 502
        case .invalidModel: 500
        }
    }
}
