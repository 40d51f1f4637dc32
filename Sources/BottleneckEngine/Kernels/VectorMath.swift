/// Transcendental functions on 8 `Float` lanes, for the activation and softmax kernels.
enum VectorMath {
    /// `e^x` per lane, accurate to about 2 ulp (Cephes `expf`: Cody-Waite reduction `x = n ln2 + r`,
    /// `|r| <= ln2 / 2`, degree-6 polynomial for `e^r`, `2^n` built in the exponent bits).
    ///
    /// Inputs are first limited to `[-87.33, 88]`, so the result is always finite and normal: below `-87.33` it
    /// is `1.18e-38` instead of a denormal or 0, above 88 it is `1.65e38` instead of larger or infinity.
    /// NaN lanes give NaN.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let limited = x.clamped(lower: SIMD8(repeating: -87.33654), upper: SIMD8(repeating: 88))
        // Adding 1.5 * 2^23 rounds to an integer, which then sits in the low mantissa bits of `shifted`.
        let roundingBias = SIMD8<Float>(repeating: 12_582_912)
        var shifted = roundingBias
        shifted.addProduct(limited, SIMD8(repeating: 1.442_695_04))  // log2(e)
        let n = shifted - roundingBias
        // r = x - n * ln2, with ln2 split into an exactly representable high part and a small correction.
        var r = limited
        r.addProduct(n, SIMD8(repeating: -0.693_359_375))
        r.addProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var polynomial = SIMD8<Float>(repeating: 1.987_569_15e-4)
        polynomial = polynomial * r + SIMD8(repeating: 1.398_199_950_7e-3)
        polynomial = polynomial * r + SIMD8(repeating: 8.333_451_907_3e-3)
        polynomial = polynomial * r + SIMD8(repeating: 4.166_579_589_4e-2)
        polynomial = polynomial * r + SIMD8(repeating: 1.666_666_545_9e-1)
        polynomial = polynomial * r + SIMD8(repeating: 5.000_000_120_1e-1)
        var expR = r + SIMD8(repeating: 1)
        expR.addProduct(polynomial, r * r)
        let exponent = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(roundingBias, to: SIMD8<Int32>.self)
        let twoToN = unsafeBitCast((exponent &+ 127) &<< 23, to: SIMD8<Float>.self)
        return expR * twoToN
    }
}
