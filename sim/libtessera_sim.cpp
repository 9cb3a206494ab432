// libtessera_sim is the engine model's archive taken whole (cmake/install.cmake); a
// shared library target still needs a source of its own.
