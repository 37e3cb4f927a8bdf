module gsmapper.test/targets

go 1.19
