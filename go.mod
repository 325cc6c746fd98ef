module github.com/overlapio/overlap

go 1.26.8

require go.uber.org/atomic v1.12.0
