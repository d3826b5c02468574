dnl PGA_ERL_INTERFACE: locate erl_interface by asking erl where it is.
AC_DEFUN([PGA_ERL_INTERFACE], [
  AC_PATH_PROG([ERL], [erl])
  AS_IF([test -z "$ERL"],
    [AC_MSG_ERROR([erl not found: install the Debian packages erlang-nox and erlang-dev])])
  AC_ARG_WITH([erl-interface],
    [AS_HELP_STRING([--with-erl-interface=DIR], [erl_interface directory (default: ask erl)])],
    [EI_DIR=$withval],
    [EI_DIR=`$ERL -noshell -eval 'io:format("~s", [[code:lib_dir(erl_interface)]]), halt().' 2>/dev/null`])
  AC_MSG_CHECKING([for erl_interface])
  AS_IF([test -n "$EI_DIR" && test -f "$EI_DIR/include/ei.h" && test -f "$EI_DIR/lib/libei.a"],
    [AC_MSG_RESULT([$EI_DIR])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([erl_interface (ei.h, libei.a) not found under '$EI_DIR': install the Debian package erlang-dev])])
  AC_SUBST([EI_CPPFLAGS], ["-I$EI_DIR/include"])
  AC_SUBST([EI_LIBS], ["$EI_DIR/lib/libei.a"])
  ERL_OTP_RELEASE=`$ERL -noshell -eval 'io:format("~s", [[erlang:system_info(otp_release)]]), halt().' 2>/dev/null`
  AC_SUBST([ERL_OTP_RELEASE])
])
