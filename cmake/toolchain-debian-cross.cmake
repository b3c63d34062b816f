# toolchain-debian-cross.cmake - the common part of the Raspberry Pi toolchain files: a cross
# build against Debian's multiarch packages (crossbuild-essential-ARCH and the :ARCH -dev
# packages, from scripts/install-cross-deps), tests run under qemu-user-static. The including
# file sets AUSCULT_CROSS_TRIPLET (aarch64-linux-gnu), AUSCULT_CROSS_PROCESSOR and
# AUSCULT_CROSS_QEMU (qemu-aarch64-static).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${AUSCULT_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER ${AUSCULT_CROSS_TRIPLET}-gcc)
# Multiarch: the target's libraries and CMake packages are in /usr/lib/TRIPLET, so this is what
# makes find_library and find_package (paho's CMake package: it has no .pc file) take them and
# never the build machine's /usr/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${AUSCULT_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH /usr/${AUSCULT_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config reads the target's .pc files only (the build machine's would name its libraries).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${AUSCULT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# ctest runs every test program through the emulator. No -L: the multiarch libc6:ARCH is found
# through /etc/ld.so.conf.d like any library, and mixing the cross toolchain's loader
# (/usr/TRIPLET/lib) with it hangs every pthread_create.
find_program(AUSCULT_CROSS_EMULATOR ${AUSCULT_CROSS_QEMU})
if(AUSCULT_CROSS_EMULATOR)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${AUSCULT_CROSS_EMULATOR})
endif()
