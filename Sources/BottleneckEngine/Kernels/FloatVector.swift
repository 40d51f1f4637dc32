/// A register of `Float` lanes that the kernels are written against, so that one generic kernel body serves
/// `SIMD16<Float>` for full channel blocks, `SIMD8<Float>` for a half block and `Float` for the remainder.
///
/// Optimised builds specialise the generic kernels for each conforming type, and every requirement is met by a
/// concrete operation that lowers to plain AVX2 (`vmovups`, `vfmadd231ps`, `vmaxps`, `vminps`). Clamping uses
/// `replacing(with:where:)` rather than `pointwiseMin`/`pointwiseMax`, which Swift 6.3 compiles to out-of-line
/// lane-by-lane calls.
protocol FloatVector {
    /// Number of `Float` lanes.
    static var laneCount: Int { get }
    init(repeating value: Float)
    /// Loads `laneCount` consecutive floats from a pointer of any alignment.
    init(loadingFrom pointer: UnsafePointer<Float>)
    /// Stores the lanes to `laneCount` consecutive floats at a pointer of any alignment.
    func store(to pointer: UnsafeMutablePointer<Float>)
    static func + (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    /// `self += lhs * rhs` as one fused multiply-add per lane.
    mutating func addProduct(_ lhs: Self, _ rhs: Self)
    /// Each lane limited to `[lower, upper]` (NaN lanes stay NaN).
    func clamped(lower: Self, upper: Self) -> Self
    /// The lane-wise larger of two vectors.
    static func maximum(_ lhs: Self, _ rhs: Self) -> Self
}

extension SIMD16: FloatVector where Scalar == Float {
    @inline(__always) static var laneCount: Int { 16 }

    @inline(__always) init(loadingFrom pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: SIMD16<Float>.self)
    }

    @inline(__always) func clamped(lower: SIMD16<Float>, upper: SIMD16<Float>) -> SIMD16<Float> {
        let raised = replacing(with: lower, where: self .< lower)
        return raised.replacing(with: upper, where: raised .> upper)
    }

    @inline(__always) static func maximum(_ lhs: SIMD16<Float>, _ rhs: SIMD16<Float>) -> SIMD16<Float> {
        lhs.replacing(with: rhs, where: rhs .> lhs)
    }
}

extension SIMD8: FloatVector where Scalar == Float {
    @inline(__always) static var laneCount: Int { 8 }

    @inline(__always) init(loadingFrom pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: SIMD8<Float>.self)
    }

    @inline(__always) func clamped(lower: SIMD8<Float>, upper: SIMD8<Float>) -> SIMD8<Float> {
        let raised = replacing(with: lower, where: self .< lower)
        return raised.replacing(with: upper, where: raised .> upper)
    }

    @inline(__always) static func maximum(_ lhs: SIMD8<Float>, _ rhs: SIMD8<Float>) -> SIMD8<Float> {
        lhs.replacing(with: rhs, where: rhs .> lhs)
    }
}

extension Float: FloatVector {
    @inline(__always) static var laneCount: Int { 1 }

    @inline(__always) init(repeating value: Float) { self = value }

    @inline(__always) init(loadingFrom pointer: UnsafePointer<Float>) { self = pointer.pointee }

    @inline(__always) func store(to pointer: UnsafeMutablePointer<Float>) { pointer.pointee = self }

    @inline(__always) func clamped(lower: Float, upper: Float) -> Float { Swift.min(Swift.max(self, lower), upper) }

    @inline(__always) static func maximum(_ lhs: Float, _ rhs: Float) -> Float { rhs > lhs ? rhs : lhs }
}
