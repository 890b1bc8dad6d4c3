// A window of device registers or DMA memory in this process (a BAR from
// device_map_bar, memory from device_dma_alloc): every access is volatile, so the
// compiler neither drops nor reorders them; x86 keeps stores in order for the
// device, which is all a split virtqueue needs.
import _Volatile

public struct DeviceRegisters {
  public let base: UInt
  public let size: UInt

  public init(base: UInt, size: UInt) {
    self.base = base
    self.size = size
  }

  /// The registers from `offset` on.
  public func slice(_ offset: UInt, size: UInt) -> DeviceRegisters {
    precondition(offset <= self.size && size <= self.size - offset, "register window outside its mapping")
    return DeviceRegisters(base: base + offset, size: size)
  }

  @inline(__always) private func at(_ offset: UInt, _ width: UInt) -> UInt {
    precondition(offset <= size && width <= size - offset, "register access outside its mapping")
    return base + offset
  }

  public func read8(_ offset: UInt) -> UInt8 { VolatileMappedRegister<UInt8>(unsafeBitPattern: at(offset, 1)).load() }
  public func read16(_ offset: UInt) -> UInt16 { VolatileMappedRegister<UInt16>(unsafeBitPattern: at(offset, 2)).load() }
  public func read32(_ offset: UInt) -> UInt32 { VolatileMappedRegister<UInt32>(unsafeBitPattern: at(offset, 4)).load() }
  public func write8(_ offset: UInt, _ value: UInt8) { VolatileMappedRegister<UInt8>(unsafeBitPattern: at(offset, 1)).store(value) }
  public func write16(_ offset: UInt, _ value: UInt16) { VolatileMappedRegister<UInt16>(unsafeBitPattern: at(offset, 2)).store(value) }
  public func write32(_ offset: UInt, _ value: UInt32) { VolatileMappedRegister<UInt32>(unsafeBitPattern: at(offset, 4)).store(value) }

  /// A 64-bit value as two 32-bit accesses, low half first (virtio allows only 32-bit
  /// accesses to its 64-bit common configuration fields).
  public func read64(_ offset: UInt) -> UInt64 { UInt64(read32(offset)) | UInt64(read32(offset + 4)) << 32 }
  public func write64(_ offset: UInt, _ value: UInt64) {
    write32(offset, UInt32(truncatingIfNeeded: value))
    write32(offset + 4, UInt32(truncatingIfNeeded: value >> 32))
  }

  /// Plain memory (DMA buffers the device is not looking at): a pointer.
  public func pointer(_ offset: UInt) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: at(offset, 0))!
  }
}
