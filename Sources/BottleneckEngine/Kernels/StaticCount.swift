/// A small whole number as a type. A kernel generic over it is specialised into one loop per value, with every
/// test on the value folded away, so its accumulators can live in named registers.
protocol StaticCount {
    static var value: Int { get }
}

enum Count1: StaticCount { static var value: Int { 1 } }
enum Count2: StaticCount { static var value: Int { 2 } }
enum Count3: StaticCount { static var value: Int { 3 } }
enum Count4: StaticCount { static var value: Int { 4 } }
enum Count5: StaticCount { static var value: Int { 5 } }
enum Count6: StaticCount { static var value: Int { 6 } }
enum Count7: StaticCount { static var value: Int { 7 } }
enum Count8: StaticCount { static var value: Int { 8 } }
