# Install layout and the Debian package (CPack DEB). Included from the top-level CMakeLists.txt; the
# binaries' install() rules live in app/CMakeLists.txt.
#
#   cmake --build build && cmake --build build --target package     (or: cd build && cpack -G DEB)
#
# writes build/gruq_<version>-<release>_<arch>.deb. scripts/package_check.sh builds, installs and
# smoke-tests it from the installed files.
include(GNUInstallDirs)

set(GRUQ_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(GRUQ_PACKAGE_MAINTAINER "gruq maintainers <maintainers@users.noreply.h-seed-df2115ee.example>"
    CACHE STRING "Maintainer field of the Debian package: Name <email>")
set(GRUQ_PACKAGE_HOMEPAGE "" CACHE STRING "Homepage field of the Debian package (left out when empty)")
set(GRUQ_DEB_RELEASE 1 CACHE STRING "Debian revision of the package (the part after the '-')")

# ---- install layout (prefix /usr in the package) ---------------------------------------------------
if(GRUQ_BUILD_GUI)
  # Desktop entry named after the binary: it is also the window's WM_CLASS / Wayland app id, and
  # Icon=gruq resolves to the hicolor icon below. The AppStream component (reverse-DNS id, as AppStream
  # requires) points at it with <launchable type="desktop-id">gruq.desktop</launchable>.
  install(FILES ${GRUQ_PACKAGING_DIR}/gruq.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${GRUQ_PACKAGING_DIR}/io.github.gruq.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/gruq.svg
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()
# The runtime is also compiled into every export; the installed copy is for reading and for
# integrating it into firmware projects by hand.
install(FILES ${PROJECT_SOURCE_DIR}/resources/runtime/gruq_runtime.h ${PROJECT_SOURCE_DIR}/resources/runtime/gruq_runtime.c
        DESTINATION ${CMAKE_INSTALL_DATADIR}/gruq/runtime)
install(FILES ${PROJECT_SOURCE_DIR}/docs/blob-format.md ${PROJECT_SOURCE_DIR}/docs/quantization.md
              ${GRUQ_PACKAGING_DIR}/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Debian wants man pages and the changelog gzip-compressed with -n (no name, no timestamp: reproducible).
set(GRUQ_PACKAGING_GEN ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${GRUQ_PACKAGING_GEN})
set(_gruq_gz_sources changelog.Debian gruq-cli.1)
if(GRUQ_BUILD_GUI)
  list(APPEND _gruq_gz_sources gruq.1)
endif()
find_program(GRUQ_GZIP gzip REQUIRED)
foreach(_f IN LISTS _gruq_gz_sources)
  set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${GRUQ_PACKAGING_DIR}/${_f})
  execute_process(COMMAND ${GRUQ_GZIP} -9 -n -c ${GRUQ_PACKAGING_DIR}/${_f}
                  OUTPUT_FILE ${GRUQ_PACKAGING_GEN}/${_f}.gz RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "gzip ${_f} failed: ${_rc}")
  endif()
endforeach()
install(FILES ${GRUQ_PACKAGING_GEN}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${GRUQ_PACKAGING_DIR}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME gruq)
install(FILES ${GRUQ_PACKAGING_GEN}/gruq-cli.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
if(GRUQ_BUILD_GUI)
  install(FILES ${GRUQ_PACKAGING_GEN}/gruq.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# The version is written by hand in a few packaging files: say so when one was forgotten at a bump.
foreach(_check IN ITEMS "io.github.gruq.metainfo.xml|version=\"${PROJECT_VERSION}\""
                        "changelog.Debian|gruq (${PROJECT_VERSION}-${GRUQ_DEB_RELEASE})"
                        "gruq.1|\"gruq ${PROJECT_VERSION}\"" "gruq-cli.1|\"gruq ${PROJECT_VERSION}\"")
  string(REPLACE "|" ";" _check "${_check}")
  list(GET _check 0 _file)
  list(GET _check 1 _needle)
  file(READ ${GRUQ_PACKAGING_DIR}/${_file} _text)
  string(FIND "${_text}" "${_needle}" _pos)
  if(_pos EQUAL -1)
    message(AUTHOR_WARNING "packaging/${_file} does not mention ${_needle}: update it for version ${PROJECT_VERSION}")
  endif()
endforeach()

# ---- Debian package --------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gruq)
set(CPACK_PACKAGE_VENDOR gruq)
set(CPACK_PACKAGE_CONTACT "${GRUQ_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "mixed-precision integer quantization search for GRU networks")
# Extended description: lines of at most 80 characters (Debian policy); CPack indents them.
set(CPACK_PACKAGE_DESCRIPTION
"gruq searches per-operator (2 to 8 bit) integer quantization schemes for GRU
recurrent networks with NSGA-II and quantization-aware training, shows the
accuracy / model-size Pareto front as the search runs, and exports the chosen
model as a firmware blob with a portable, malloc-free C99 runtime for
microcontrollers.

This package contains the desktop application (gruq), the command-line tool
(gruq-cli), the C runtime sources and the documentation of the blob format and
of the quantization scheme.")
set(CPACK_STRIP_FILES ON)  # RelWithDebInfo binaries are ~60 MB each with their debug info
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # gruq_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${GRUQ_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${GRUQ_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
if(GRUQ_PACKAGE_HOMEPAGE)
  set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${GRUQ_PACKAGE_HOMEPAGE}")
endif()
# Linked libraries come from dpkg-shlibdeps (dpkg-dev). Listed by hand: what is loaded at run time and
# so invisible to it. libtorch links libblas.so.3, which the alternatives system points at the
# reference BLAS unless OpenBLAS is installed (about 10x slower); Qt loads its platform plugins.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread")
if(GRUQ_BUILD_GUI)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", qt6-qpa-plugins")
endif()
# The default task reads Fashion-MNIST from /usr/share/datasets/fashion-mnist; other data folders work too.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "dataset-fashion-mnist")
# Building the exported firmware for Cortex-M.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gcc-arm-none-eabi, libnewlib-arm-none-eabi")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# `package_source` would otherwise tar every build tree of the checkout.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/\\\\.cache/" "\\\\.swp$")

include(CPack)
