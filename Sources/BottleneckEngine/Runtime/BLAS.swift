import COpenBLAS

/// The engine's only door to OpenBLAS (row-major single-precision GEMM).
///
/// OpenBLAS is kept single-threaded: the engine splits rows (or whole images) across its own threads, which
/// measured about 2x faster on these small CNN GEMMs than OpenBLAS's own threading, whose workers busy-wait
/// and compete with ours.
package enum BLAS {
    /// Makes OpenBLAS run every call on the calling thread. Idempotent.
    package static func useCallingThreadOnly() {
        _ = singleThreaded
    }

    private static let singleThreaded: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// `c[m x n] = a[m x k] * b[k x n] + beta * c`, all row-major with the given leading dimensions.
    @inline(__always)
    package static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                    b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `c[m x n] = a[m x k] * b^T + beta * c` where `b` is `[n x k]` row-major.
    package static func multiplyTransposedB(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                    b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `c[m x n] = a^T * b[k x n] + beta * c` where `a` is `[k x m]` row-major.
    package static func multiplyTransposedA(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                    b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The OpenBLAS kernel family chosen for this CPU (e.g. "Cooperlake", "Haswell").
    package static var coreName: String { String(cString: openblas_get_corename()) }
}
