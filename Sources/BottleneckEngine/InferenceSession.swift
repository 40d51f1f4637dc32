import Foundation

/// Runs an `InferenceModel` on batches, reusing plans and buffers per input shape.
///
/// Threading: OpenBLAS is single-threaded and the session owns the parallelism. A batch of several images
/// runs as `min(threads, batch)` streams, each taking groups of up to `maximumGroup` images through the network
/// on its own buffers (no barriers between the threads; with one thread too); a single image is split inside
/// every layer (rows of each convolution, blocks of each elementwise step) across the threads. After the first
/// run of a shape nothing is allocated except the returned tensors.
///
/// A session is not safe to call from several threads at once; use one per thread.
public final class InferenceSession {
    /// How the caller's input values are ordered.
    public enum InputLayout: Sendable {
        /// The model's own input layout (NCHW for most ONNX CNNs).
        case model
        /// Images as `[N, H, W, C]`, what the image pipeline produces; for models with NCHW input.
        case nhwc
    }

    public let model: InferenceModel
    public let threads: Int

    private var plans: [[Int]: PreparedPlan] = [:]
    private let pool: WorkerPool

    /// Most images one stream runs through the network together. A group reuses each weight load of the late
    /// 1x1 convolutions (megabytes that do not stay in cache between images) for all its images, while the early
    /// blocks still run fused image by image. Measured on EfficientNet-Lite0 (images/s against single images):
    /// groups of 2 and 4 gained 6-7% at one thread, batch 8, and at two threads, batch 32; 8 and 16 gained less.
    public static let maximumGroup = 4

    /// Both cores busy by default.
    public static var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    public init(model: InferenceModel, threads: Int = InferenceSession.defaultThreadCount) {
        precondition(threads >= 1, "threads must be at least 1")
        BLAS.useCallingThreadOnly()
        self.model = model
        self.threads = threads
        pool = WorkerPool(workerCount: threads - 1)
    }

    deinit {
        pool.shutdown()
    }

    /// Computes the model's outputs for a batch.
    /// - Parameters:
    ///   - input: the batch, `shape.reduce(1, *)` floats in `layout` order.
    ///   - shape: the logical (model-layout) input shape, batch first, e.g. `[8, 3, 224, 224]`.
    /// - Returns: each output by name, in row-major logical order.
    /// - Throws: `EngineError.invalidInput` when the shape does not fit the model.
    public func run(_ input: UnsafeBufferPointer<Float>, shape: [Int], layout: InputLayout = .model) throws
        -> [String: Tensor]
    {
        try validate(shape: shape, count: input.count)
        let batch = shape[0]
        if batch > 1, let outputs = try runStreams(input, shape: shape, layout: layout) { return outputs }
        guard let whole = try plan(for: shape, arenas: 1) else {
            preconditionFailure("plan(for:arenas:) returns nil only for empty batches")
        }
        let arena = whole.arenas[0][0]
        Self.load(input, into: arena, plan: whole.plan, layout: layout)
        for step in whole.plan.steps { execute(step, parts: whole.arenas[0]) }
        var outputs: [String: Tensor] = [:]
        for (name, tensor) in whole.plan.outputs {
            var values = [Float](repeating: 0, count: tensor.count)
            values.withUnsafeMutableBufferPointer { Self.store(tensor, from: arena, into: $0.baseAddress!) }
            outputs[name] = Tensor(shape: tensor.shape, values: values)
        }
        return outputs
    }

    /// Convenience for arrays.
    public func run(_ input: [Float], shape: [Int], layout: InputLayout = .model) throws -> [String: Tensor] {
        try input.withUnsafeBufferPointer { try run($0, shape: shape, layout: layout) }
    }

    /// Per-step wall time of one run, for profiling: `(step label, seconds)` in execution order.
    public func profile(_ input: [Float], shape: [Int]) throws -> [(label: String, seconds: Double)] {
        try validate(shape: shape, count: input.count)
        guard let prepared = try plan(for: shape, arenas: 1) else { return [] }
        let arena = prepared.arenas[0][0]
        input.withUnsafeBufferPointer { Self.load($0, into: arena, plan: prepared.plan, layout: .model) }
        return prepared.plan.steps.map { step in
            let start = DispatchTime.now().uptimeNanoseconds
            execute(step, parts: prepared.arenas[0])
            return (step.label, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
    }

    // MARK: - Internals

    private func validate(shape: [Int], count: Int) throws {
        let declared = model.inputDimensions
        guard shape.count == declared.count, shape.allSatisfy({ $0 > 0 }) else {
            throw EngineError(.invalidInput, "input shape \(shape) does not match the model input"
                + " '\(model.inputName)' of shape \(Self.describe(declared)).")
        }
        for (axis, expected) in declared.enumerated() where axis > 0 {
            if let expected, expected != shape[axis] {
                throw EngineError(.invalidInput, "input shape \(shape) does not match the model input"
                    + " '\(model.inputName)' of shape \(Self.describe(declared)): dimension \(axis) must be"
                    + " \(expected).")
            }
        }
        guard count == shape.reduce(1, *) else {
            throw EngineError(.invalidInput, "got \(count) input values for shape \(shape), which needs"
                + " \(shape.reduce(1, *)).")
        }
    }

    /// `[?, 3, 224, 224]` for dimensions with symbolic ones.
    public static func describe(_ dimensions: [Int?]) -> String {
        "[" + dimensions.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    private func plan(for shape: [Int], arenas count: Int) throws -> PreparedPlan? {
        guard shape[0] > 0 else { return nil }
        if let existing = plans[shape], existing.arenas.count >= count { return existing }
        let plan = try plans[shape]?.plan ?? ExecutionPlanner.plan(model.graph, inputShape: shape)
        let prepared = PreparedPlan(plan: plan, arenaCount: count, partsPerArena: threads)
        plans[shape] = prepared
        return prepared
    }

    /// Runs a batch as `min(threads, batch)` streams, each taking whole groups of up to `maximumGroup` images
    /// through a plan of the group's size on its own arena; nil if the model's outputs do not have one row per
    /// image (then the caller runs one batch-sized plan).
    private func runStreams(_ input: UnsafeBufferPointer<Float>, shape: [Int], layout: InputLayout) throws
        -> [String: Tensor]?
    {
        let batch = shape[0]
        let streams = min(threads, batch)
        let groupSize = min(Self.maximumGroup, (batch + streams - 1) / streams)
        let groups = stride(from: 0, to: batch, by: groupSize).map { $0..<min($0 + groupSize, batch) }
        var plans: [Int: PreparedPlan] = [:]
        for size in Set(groups.map(\.count)) {
            guard let prepared = try plan(for: [size] + shape.dropFirst(), arenas: streams),
                prepared.plan.outputs.allSatisfy({ $0.tensor.shape.first == size }) else { return nil }
            plans[size] = prepared
        }
        let outputTensors = plans[groupSize]!.plan.outputs
        let imageSize = input.count / batch
        let outputSizes = outputTensors.map { $0.tensor.count / groupSize }
        let results = outputSizes.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0 * batch) }
        defer { results.forEach { $0.deallocate() } }
        let destinations = UnsafeSendable(results.map { $0.baseAddress! })
        let source = UnsafeSendable(input.baseAddress!)
        let groupPlans = UnsafeSendable(groups.map { plans[$0.count]! })
        pool.run(parts: streams) { stream in
            for index in stride(from: stream, to: groups.count, by: streams) {
                let (images, prepared) = (groups[index], groupPlans.value[index])
                let arena = prepared.arenas[stream][0]
                let slice = UnsafeBufferPointer(start: source.value + images.lowerBound * imageSize,
                                                count: images.count * imageSize)
                Self.load(slice, into: arena, plan: prepared.plan, layout: layout)
                for step in prepared.plan.steps { step.body(arena, 0..<step.workItems) }
                for (output, (tensor, size)) in zip(prepared.plan.outputs, zip(destinations.value, outputSizes)) {
                    Self.store(output.tensor, from: arena, into: tensor + images.lowerBound * size)
                }
            }
        }
        var outputs: [String: Tensor] = [:]
        for (index, output) in outputTensors.enumerated() {
            outputs[output.name] = Tensor(shape: [batch] + output.tensor.shape.dropFirst(),
                                          values: Array(results[index]))
        }
        return outputs
    }

    /// Runs one step, splitting its work items across the threads when there is more than one item; part `p`
    /// runs on `arenas[p]` (one arena's buffers, each part with its own scratch).
    private func execute(_ step: Step, parts arenas: [Arena]) {
        let parts = min(threads, step.workItems)
        if parts <= 1 {
            step.body(arenas[0], 0..<step.workItems)
            return
        }
        let items = step.workItems
        pool.run(parts: parts) { part in
            step.body(arenas[part], (items * part / parts)..<(items * (part + 1) / parts))
        }
    }

    private static func load(_ input: UnsafeBufferPointer<Float>, into arena: Arena, plan: ExecutionPlan, layout: InputLayout) {
        let tensor = plan.input
        let target = arena.pointer(tensor.buffer)
        if tensor.layout == .nhwc, layout == .model, !tensor.layoutIsAmbiguous {
            let shape = tensor.shape
            LayoutTransforms.nchwToNHWC(input: input.baseAddress!, output: target, batch: shape[0],
                                        channels: shape[1], height: shape[2], width: shape[3])
        } else {
            target.update(from: input.baseAddress!, count: tensor.count)
        }
    }

    private static func store(_ tensor: PlannedTensor, from arena: Arena, into destination: UnsafeMutablePointer<Float>) {
        let source = arena.pointer(tensor.buffer)
        if tensor.layout == .nhwc, !tensor.layoutIsAmbiguous {
            let shape = tensor.shape
            LayoutTransforms.nhwcToNCHW(input: source, output: destination, batch: shape[0], channels: shape[1],
                                        height: shape[2], width: shape[3])
        } else {
            destination.update(from: source, count: tensor.count)
        }
    }
}

/// A plan with the memory that runs it: one allocation per stream, holding the plan's buffers and one scratch per
/// part a step may be split into. `arenas[stream][part]` differ only in their scratch. Immutable.
private final class PreparedPlan: @unchecked Sendable {
    let plan: ExecutionPlan
    let arenas: [[Arena]]
    private let allocations: [UnsafeMutablePointer<Float>]

    init(plan: ExecutionPlan, arenaCount: Int, partsPerArena: Int) {
        self.plan = plan
        // 64-byte (cache line) alignment: every buffer offset is a multiple of 16 floats, and the SIMD kernels
        // measured ~25% slower on 16-byte aligned data.
        let scratchStride = (plan.scratchCount + 15) / 16 * 16
        let floats = plan.arenaCount + partsPerArena * scratchStride
        allocations = (0..<arenaCount).map { _ in
            let memory = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
            return memory.initializeMemory(as: Float.self, repeating: 0, count: floats)
        }
        arenas = allocations.map { base in
            (0..<partsPerArena).map { part in
                Arena(base: base, offsets: plan.offsets, scratch: base + plan.arenaCount + part * scratchStride)
            }
        }
    }

    deinit {
        for memory in allocations { memory.deallocate() }
    }
}

/// Carries pointers into pool workers that write disjoint regions.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
