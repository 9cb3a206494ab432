// Dense row-major tensors and NumPy .npy I/O (format versions 1.0, 2.0 and 3.0, C order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

template <typename T>
struct Tensor {
  std::vector<std::size_t> shape;
  std::vector<T> data;

  Tensor() = default;
  Tensor(std::size_t rows, std::size_t cols) : shape{rows, cols}, data(rows * cols) {}

  std::size_t rows() const { return shape.at(0); }
  std::size_t cols() const { return shape.at(1); }
  T& at(std::size_t r, std::size_t c) { return data[r * shape[1] + c]; }
  const T& at(std::size_t r, std::size_t c) const { return data[r * shape[1] + c]; }
};

/// "[2, 3, 4]": shapes in messages.
std::string format_shape(const std::vector<std::size_t>& shape);

/// Reads an .npy file holding dtype T (int8 '|i1', uint8 '|u1', int32 '<i4', int64 '<i8',
/// float32 '<f4', float64 '<f8'); throws InputError naming the file and what was expected
/// when it is missing, truncated, Fortran-ordered or of another dtype.
template <typename T>
Tensor<T> load_npy(const std::string& path);

/// The dtype an .npy file declares (the file must be a readable .npy: InputError otherwise).
enum class NpyDescr { kInt8, kUint8, kInt32, kInt64, kFloat32, kFloat64, kOther };
NpyDescr npy_dtype(const std::string& path);

/// Reads an .npy of dtype int32 or int8 as int32, for parameter vectors such as shifts
/// that are naturally saved as int8; same errors as load_npy otherwise.
Tensor<std::int32_t> load_npy_int32_widened(const std::string& path);

/// Writes through a temporary file in the same directory and renames it into place, so
/// a failure never leaves a partial or overwritten file behind.
template <typename T>
void save_npy(const std::string& path, const Tensor<T>& tensor);

}  // namespace tessera
