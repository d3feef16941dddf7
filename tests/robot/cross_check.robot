*** Settings ***
Documentation     Cross-checks the bundled example CNN on emulated stm32f4 (QEMU) through
...               the harness keyword library. Runs under plain `robot`.
Library           OperatingSystem
Library           harness.robot.HarnessLibrary

*** Variables ***
${MODEL}          ${CURDIR}/../../examples/example_cnn_int8.tflite

*** Test Cases ***
Example Model Is Bit Exact Against LiteRT On stm32f4
    ${status}=    Cross Check Model    ${MODEL}    target=stm32f4    vectors=2
    ...           references=litert-ref
    Log    verdict ${status}
    Reference Should Be Available    litert-ref
    Verdict Should Be    PASS
    Max Delta Should Be At Most    litert-ref    0
    ${folder}=    Results Folder
    File Should Exist    ${folder}/results.json
