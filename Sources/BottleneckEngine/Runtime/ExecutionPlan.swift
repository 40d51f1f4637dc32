/// How a runtime tensor's values are ordered in its buffer.
enum Layout: Sendable {
    /// A 4-D tensor with logical (ONNX) shape `[N, C, H, W]` stored as `[N, H, W, C]`.
    case nhwc
    /// Row-major in the logical shape.
    case plain
}

/// A tensor computed at run time: its logical shape, layout, and the virtual buffer that holds it.
struct PlannedTensor: Sendable {
    var shape: [Int]
    var layout: Layout
    var buffer: Int

    var count: Int { shape.reduce(1, *) }

    /// The shape in storage order (`[N, H, W, C]` for `.nhwc`).
    var physicalShape: [Int] { layout == .nhwc ? [shape[0], shape[2], shape[3], shape[1]] : shape }

    /// True when NHWC and NCHW orders coincide, so a layout change is free.
    var layoutIsAmbiguous: Bool { shape.count != 4 || shape[1] == 1 || shape[2] * shape[3] == 1 }
}

/// Resolves virtual buffers to addresses in one contiguous allocation, and gives the thread running a step its
/// own scratch. All arenas of a plan share its offsets; several threads may share one arena's buffers (each
/// writing its own rows), but never a scratch.
struct Arena: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let offsets: [Int]
    /// `ExecutionPlan.scratchCount` floats for the running thread alone.
    let scratch: UnsafeMutablePointer<Float>

    @inline(__always)
    func pointer(_ buffer: Int) -> UnsafeMutablePointer<Float> { base + offsets[buffer] }

    /// A buffer holding bytes (quantized activations), which only C kernels read and write.
    @inline(__always)
    func bytes(_ buffer: Int) -> UnsafeMutablePointer<UInt8> {
        UnsafeMutableRawPointer(base + offsets[buffer]).assumingMemoryBound(to: UInt8.self)
    }
}

/// One unit of work in a plan: a kernel call over `workItems` independent items (output rows, images or
/// element blocks) that threads may split into disjoint ranges.
struct Step: Sendable {
    let label: String
    let workItems: Int
    let body: @Sendable (Arena, Range<Int>) -> Void
}

/// Everything needed to run a graph on inputs of one shape: the steps in order, where each tensor lives,
/// and the arena size. Built once per input shape by `ExecutionPlanner`; running it allocates nothing.
struct ExecutionPlan: Sendable {
    let steps: [Step]
    let input: PlannedTensor
    let outputs: [(name: String, tensor: PlannedTensor)]
    /// Float offset of each virtual buffer in the arena.
    let offsets: [Int]
    /// Floats an arena must hold.
    let arenaCount: Int
    /// Floats of per-thread scratch the steps need (see `Arena.scratch`).
    let scratchCount: Int
}
