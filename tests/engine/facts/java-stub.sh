#!/bin/sh
echo 'openjdk version "21" (a stub)'
