# install_configured.cmake - installs the systemd unit and the example config with the paths of
# this install (binary, config, shipped model), from the prefix in force when `cmake --install`
# runs, so that `--prefix DIR` gives a tree whose files point into DIR. Included by the install
# script; CMakeLists.txt sets AUSCULT_SOURCE_DIR and the GNUInstallDirs folders AUSCULT_BINDIR,
# AUSCULT_SYSCONFDIR, AUSCULT_DATADIR, AUSCULT_DOCDIR, AUSCULT_UNITDIR first.
cmake_policy(VERSION 3.18)

# The files in the tree carry the paths of the default prefix /usr/local (the unit) or of the
# source tree (the config's model); these are what gets replaced.
set(default_bindir "/usr/local/bin/")
set(default_confdir "/usr/local/etc/auscult/")
set(default_docdir "/usr/local/share/doc/auscult/")
set(source_model_dir "../models/")

# auscult_full_dir(OUT DIR): DIR under the install prefix unless absolute; etc under the prefix
# /usr is /etc, as GNUInstallDirs has it.
function(auscult_full_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  elseif(dir MATCHES "^etc(/|$)" AND CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
    set(${out} "/${dir}" PARENT_SCOPE)
  else()
    string(REGEX REPLACE "/+$" "" prefix "${CMAKE_INSTALL_PREFIX}")
    set(${out} "${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

# auscult_replace(VAR FROM TO): replaces FROM in VAR, which must hold it (a renamed path in the
# unit or the config must fail the install, not install a file that points nowhere).
macro(auscult_replace var from to)
  string(FIND "${${var}}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "install: '${from}' is no longer in the file behind ${var}: "
      "update cmake/install_configured.cmake")
  endif()
  string(REPLACE "${from}" "${to}" ${var} "${${var}}")
endmacro()

# auscult_install_text(PATH TEXT [KEEP]): writes TEXT at PATH (under $DESTDIR) and records it in
# the install manifest; with KEEP, a file already there that differs is left alone.
function(auscult_install_text path text)
  set(dest "$ENV{DESTDIR}${path}")
  set(keep "${ARGN}")
  set(write TRUE)
  if(EXISTS "${dest}")
    file(READ "${dest}" old)
    if(old STREQUAL "${text}")
      message(STATUS "Up-to-date: ${dest}")
      set(write FALSE)
    elseif(keep)
      message(STATUS "Keeping: ${dest} (it differs from the example: edited here)")
      set(write FALSE)
    endif()
  endif()
  if(write)
    message(STATUS "Installing: ${dest}")
    file(WRITE "${dest}" "${text}")
  endif()
  set(CMAKE_INSTALL_MANIFEST_FILES ${CMAKE_INSTALL_MANIFEST_FILES} "${dest}" PARENT_SCOPE)
endfunction()

auscult_full_dir(bindir "${AUSCULT_BINDIR}")
auscult_full_dir(confdir "${AUSCULT_SYSCONFDIR}")
auscult_full_dir(datadir "${AUSCULT_DATADIR}")
auscult_full_dir(docdir "${AUSCULT_DOCDIR}")
auscult_full_dir(unitdir "${AUSCULT_UNITDIR}")

file(READ "${AUSCULT_SOURCE_DIR}/systemd/auscultd.service" unit)
auscult_replace(unit "${default_bindir}" "${bindir}/")
auscult_replace(unit "${default_confdir}" "${confdir}/auscult/")
auscult_replace(unit "${default_docdir}" "${docdir}/")
auscult_install_text("${unitdir}/auscultd.service" "${unit}")

# The example config names the shipped model relative to itself in the source tree
# (config/ -> models/); installed, the two are in different trees: give the model's full path.
file(READ "${AUSCULT_SOURCE_DIR}/config/auscultd.yaml" config)
auscult_replace(config "model: ${source_model_dir}" "model: ${datadir}/auscult/models/")
auscult_install_text("${confdir}/auscult/auscultd.yaml" "${config}" KEEP)
