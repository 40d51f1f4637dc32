/// An activation expressed as a clamp, fused into the kernel that produces the values.
///
/// ReLU is `[0, +inf]` and ReLU6 is `[0, 6]`; no activation is `[-inf, +inf]`.
public struct Clamp: Sendable, Equatable, CustomStringConvertible {
    public var lower: Float
    public var upper: Float

    public init(lower: Float, upper: Float) {
        self.lower = lower
        self.upper = upper
    }

    public static let none = Clamp(lower: -.infinity, upper: .infinity)
    public static let relu = Clamp(lower: 0, upper: .infinity)
    public static let relu6 = Clamp(lower: 0, upper: 6)

    public var isNone: Bool { lower == -.infinity && upper == .infinity }

    /// The clamp equivalent to applying `self` and then `next`.
    public func followed(by next: Clamp) -> Clamp {
        let newLower = min(max(lower, next.lower), next.upper)
        let newUpper = max(min(upper, next.upper), next.lower)
        return Clamp(lower: newLower, upper: newUpper)
    }

    @inline(__always)
    public func apply(_ value: Float) -> Float { Swift.min(Swift.max(value, lower), upper) }

    public var description: String {
        switch self {
        case .none: "none"
        case .relu: "Relu"
        case .relu6: "Relu6"
        default: "Clip(\(lower), \(upper))"
        }
    }
}
