/* libclang's C API, used to read struct layouts and constants from the generated
 * header as the guest compiler sees them. The include path is set in Package.swift. */
#include <clang-c/Index.h>
