// Compiles <dgn.h> as C++ (-Wall -Wextra -pedantic -Werror, set in
// tests/meson.build): the C API must be usable from C++ unchanged.
#include <dgn.h>

#include <cstring>
#include <iostream>

int main()
{
    dgn_dataset *ds = nullptr;
    dgn_dataset_destroy(ds);
    if (std::strcmp(dgn_version_string(), DGN_VERSION_STRING) != 0) {
        std::cerr << "header " << DGN_VERSION_STRING << ", library " << dgn_version_string() << "\n";
        return 1;
    }
    return std::strlen(dgn_status_str(DGN_E_FORMAT)) == 0;
}
