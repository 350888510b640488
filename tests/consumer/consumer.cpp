// Out-of-tree C++ consumer, built like consumer.c.
#include <dgn.h>

#include <cstring>
#include <iostream>

int main()
{
    std::cout << "libdgn " << dgn_version_string() << " (C++ consumer)\n";
    return std::strcmp(dgn_version_string(), DGN_VERSION_STRING) != 0;
}
