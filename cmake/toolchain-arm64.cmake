# toolchain-arm64.cmake - cross build for a 64-bit Raspberry Pi (Pi 3/4/5, 64-bit Raspberry Pi
# OS): cmake -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake (see
# scripts/test-cross).
set(AUSCULT_CROSS_TRIPLET aarch64-linux-gnu)
set(AUSCULT_CROSS_PROCESSOR aarch64)
set(AUSCULT_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-debian-cross.cmake)
